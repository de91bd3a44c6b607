"""Everything that talks to retake.tv: REST client, errors, credentials, skill version check."""
