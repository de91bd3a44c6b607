"""What scene authors use: the retained, damage-tracked scene graph and its nodes."""
