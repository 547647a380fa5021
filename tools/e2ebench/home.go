package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Addresses of the run: the listener and the carrier simulator, away from
// the shipped ports (9001, 17001...) that a demo on the host uses.
const (
	lsnrAddr    = "127.0.0.1:24091"
	controlAddr = "127.0.0.1:24900"
	keyPrefix   = "0x4d34" // SysV keys of the run, as ipcs prints them
)

// carrierAddrs are carriersim's servers, as the run's m1.toml names them.
var carrierAddrs = map[string]string{
	"kt1": "127.0.0.1:24001", "kt2": "127.0.0.1:24002",
	"skt1": "127.0.0.1:24101", "skt2": "127.0.0.1:24102", "lg": "127.0.0.1:24201",
}

// edit is one change to a shipped configuration file; it must match, so
// that a changed etc/ fails the run instead of measuring something else.
type edit struct {
	file     string
	re       *regexp.Regexp
	repl     string
	min, max int // matches expected
}

func edits(senderWin, distCap int, dsn string) []edit {
	e := []edit{
		{"m1.toml", regexp.MustCompile(`"0x4d31`), `"` + keyPrefix, 10, 100},
		{"m1.toml", regexp.MustCompile(`"127\.0\.0\.1:17`), `"127.0.0.1:24`, 5, 5},
		{"m1.toml", regexp.MustCompile(`(?m)^listen = ":9001"`), `listen = "` + lsnrAddr + `"`, 1, 1},
		{"m1.toml", regexp.MustCompile(`(?m)^listen = ":9002"`), `listen = "127.0.0.1:24092"`, 1, 1},
		{"m1.toml", regexp.MustCompile(`(?m)^tps = 500$`), `tps = 1000000`, 4, 4},
		{"m1.toml", regexp.MustCompile(`(?m)^window = 64$`), fmt.Sprintf("window = %d", senderWin), 4, 4},
		{"dedicated.conf", regexp.MustCompile(`(?m)^(127\.0\.0\.1\s+)9002\b`), "${1}24092", 1, 1},
		{"clients.toml", regexp.MustCompile(`(?m)^tps = 0$`), `tps = 1000000`, 1, 1},
		{"routes.toml", regexp.MustCompile(`(?m)^senders = "KT1=1, KT2=0"`), `senders = "KT1=1, KT2=1"`, 1, 1},
	}
	if distCap > 0 {
		e = append(e, edit{"m1.toml", regexp.MustCompile(`(?m)^capacity = 190$`), fmt.Sprintf("capacity = %d", distCap), 3, 3})
	}
	if dsn != "" {
		e = append(e, edit{"m1.toml", regexp.MustCompile(`(?m)^dsn = "sqlite:var/m1.db"`), `dsn = "` + dsn + `"`, 1, 1})
	}
	return e
}

// makeHome copies etc/ into a temporary home and applies the run's edits.
func (r *runner) makeHome(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "m1e2e.")
	if err != nil {
		return err
	}
	r.home = dir
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "cp", "-r", filepath.Join(r.o.root, "etc"), filepath.Join(dir, "etc")).CombinedOutput(); err != nil {
		return fmt.Errorf("copy etc/: %v: %s", err, out)
	}
	dsn := ""
	if r.o.db == "postgres" {
		if dsn, err = r.makeSchema(ctx); err != nil {
			return err
		}
	}
	for _, e := range edits(r.o.senderWin, r.o.distCap, dsn) {
		p := filepath.Join(dir, "etc", e.file)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n := len(e.re.FindAllIndex(b, -1))
		if n < e.min || n > e.max {
			return fmt.Errorf("etc/%s: %q matches %d times, want %d to %d: the shipped configuration changed", e.file, e.re, n, e.min, e.max)
		}
		if err := os.WriteFile(p, e.re.ReplaceAll(b, []byte(e.repl)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// makeSchema creates the run's PostgreSQL schema and returns the DSN whose
// search_path is it; cleanup drops it.
func (r *runner) makeSchema(ctx context.Context) (string, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "m1_e2ebench_" + hex.EncodeToString(b[:])
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(cctx, r.o.pg)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL at %s: %w", r.o.pg, err)
	}
	_, err = c.Exec(cctx, "CREATE SCHEMA "+schema)
	_ = c.Close(context.Background())
	if err != nil {
		return "", err
	}
	r.schema = schema
	sep := "?"
	if strings.Contains(r.o.pg, "?") {
		sep = "&"
	}
	return r.o.pg + sep + "search_path=" + schema, nil
}

func (r *runner) dropSchema() error {
	if r.schema == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, r.o.pg)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", r.schema, err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "DROP SCHEMA "+r.schema+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", r.schema, err)
	}
	r.schema = ""
	return nil
}
