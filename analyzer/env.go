package analyzer

import (
	"os"
	"path/filepath"

	"github.com/warden-policy/warden/packs/home"
)

// Environment variables the plugin reads, all in one place.
const (
	// EnvLogLevel raises or lowers the plugin's log level: trace, debug,
	// info, warn (the default: Pulumi shows every stderr line in the
	// preview), error, off.
	EnvLogLevel = "WARDEN_LOG_LEVEL"
	// EnvLogFormat set to "json" writes logs as JSON lines.
	EnvLogFormat = "WARDEN_LOG_FORMAT"
	// EnvHome names the policy home, overriding the binary's directory.
	EnvHome = home.EnvHome
	// EnvCacheDir is where checked CEL expressions are kept between runs
	// (default: the user cache directory's warden/cel); "off" disables it.
	EnvCacheDir = "WARDEN_CACHE_DIR"
)

// CacheDir is the checked-expression cache directory for engine.SetCacheDir:
// EnvCacheDir, else the user cache directory's warden/cel, "" for none.
func CacheDir(getenv func(string) string) string {
	switch d := getenv(EnvCacheDir); d {
	case "off":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, "warden", "cel")
	default:
		return d
	}
}
