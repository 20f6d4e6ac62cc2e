"""The SSH front door (asyncssh), its pseudo-terminals, host key, login limiter and log, and
the session link over which each session's board process asks the server for everything."""
