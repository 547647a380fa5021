package tkm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/logging"
)

// TestFromEnvNodeFromConfig: cmd/tkm_files' GW_ID node is node.id of
// etc/m1.toml × 10 + 3, whatever M1_NODE says (it was read before node.id).
func TestFromEnvNodeFromConfig(t *testing.T) {
	t.Setenv("M1_NODE", "7")
	dir, _ := home(t)
	p := filepath.Join(dir, "etc", "m1.toml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "[node]\nid = 0") {
		t.Fatal("etc/m1.toml has no [node] id = 0")
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "[node]\nid = 0", "[node]\nid = 4", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := config.NewHolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := FromEnv(&daemon.Env{Name: "tkm_files", Home: dir, Config: h, Log: &logging.Logger{Logger: zaptest.NewLogger(t)}})
	if err != nil {
		t.Fatal(err)
	}
	k := d.(*Process)
	t.Cleanup(k.Exit)
	if want := 4*10 + config.SlotTkmFiles; k.opts.Node != want {
		t.Fatalf("tkm_files node %d, want %d", k.opts.Node, want)
	}
	if g := k.ids.Next(); g[13:15] != fmt.Sprintf("%02d", 4*10+config.SlotTkmFiles) {
		t.Fatalf("GW_ID %s does not carry node 43", g)
	}
}
