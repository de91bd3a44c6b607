"""Everything between a rendered RGB frame and the wire: clock, encoders, muxer, network output."""
