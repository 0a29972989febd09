"""Sample organisation data and loopback emulators of the four vendor APIs."""
