package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvHome is the environment variable that locates an M1 home.
const EnvHome = "M1_HOME"

// MainFile is the main configuration file, relative to the home.
const MainFile = "etc/m1.toml"

// Home returns the M1 home: $M1_HOME when set; else the current directory
// when it has etc/m1.toml (a checkout); else the parent of the executable's
// directory (an installed bin/ beside etc/). The result is absolute.
func Home() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	return resolveHome(os.Getenv(EnvHome), exe)
}

func resolveHome(env, exe string) (string, error) {
	if env != "" {
		h, err := filepath.Abs(env)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvHome, env, err)
		}
		return h, nil
	}
	if wd, err := os.Getwd(); err == nil {
		if _, err := os.Stat(filepath.Join(wd, MainFile)); err == nil {
			return wd, nil
		}
	}
	if exe != "" {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		h := filepath.Dir(filepath.Dir(exe))
		if _, err := os.Stat(filepath.Join(h, MainFile)); err == nil {
			return h, nil
		}
	}
	return "", fmt.Errorf("no M1 home: set %s, or run from a directory that has %s", EnvHome, MainFile)
}

// Path returns p made absolute under the home (p unchanged when absolute).
func (c *Config) Path(p string) string { return abs(c.Home, p) }

func abs(home, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(home, p)
}

func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}
