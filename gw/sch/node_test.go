package sch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/logging"
)

// setNodeID writes node.id into the home's etc/m1.toml.
func setNodeID(t *testing.T, dir string, id int) {
	t.Helper()
	p := filepath.Join(dir, "etc", "m1.toml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "[node]\nid = 0") {
		t.Fatal("etc/m1.toml has no [node] id = 0")
	}
	s := strings.Replace(string(b), "[node]\nid = 0", fmt.Sprintf("[node]\nid = %d", id), 1)
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFromEnvNodeFromConfig: cmd/sch's GW_ID node comes from etc/m1.toml
// (node.id × 10 + 2), not from the environment: two homes (two hosts) with
// node.id 0 and 1 give two sch the nodes 02 and 12, even with M1_NODE set
// the same for both, and their GW_IDs, made at the same time, never meet.
func TestFromEnvNodeFromConfig(t *testing.T) {
	t.Setenv("M1_NODE", "7") // read by sch before node.id; must not matter now
	var procs []*Process
	for _, id := range []int{0, 1} {
		dir, _ := home(t, "")
		setNodeID(t, dir, id)
		h, err := config.NewHolder(dir)
		if err != nil {
			t.Fatal(err)
		}
		d, err := FromEnv(&daemon.Env{Name: "sch", Home: dir, Config: h, Log: &logging.Logger{Logger: zaptest.NewLogger(t)}})
		if err != nil {
			t.Fatal(err)
		}
		p := d.(*Process)
		t.Cleanup(p.Exit)
		want := id*10 + config.SlotSch
		if p.opts.Node != want {
			t.Fatalf("node.id %d: sch node %d, want %d", id, p.opts.Node, want)
		}
		if g := p.ids.Next(); g[13:15] != fmt.Sprintf("%02d", want) {
			t.Fatalf("node.id %d: GW_ID %s does not carry node %02d", id, g, want)
		}
		procs = append(procs, p)
	}
	const n = 200000
	ids := make([][]string, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				ids[i] = append(ids[i], p.ids.Next())
			}
		}()
	}
	wg.Wait()
	seen := make(map[string]bool, 2*n)
	for _, l := range ids {
		for _, g := range l {
			if seen[g] {
				t.Fatalf("GW_ID %s made twice", g)
			}
			seen[g] = true
		}
	}
}
