package analyzer

// Environment variables the plugin reads, all in one place.
const (
	// EnvLogLevel raises or lowers the plugin's log level: trace, debug,
	// info, warn (the default: Pulumi shows every stderr line in the
	// preview), error, off.
	EnvLogLevel = "WARDEN_LOG_LEVEL"
	// EnvLogFormat set to "json" writes logs as JSON lines.
	EnvLogFormat = "WARDEN_LOG_FORMAT"
	// EnvHome names the policy home, overriding the binary's directory.
	EnvHome = "WARDEN_HOME"
)
