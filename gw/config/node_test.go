package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestNodeID: node.id is parsed from [node], its errors name the file, the
// line and the setting, and GWIDNode gives every GW_ID-making process of
// every home a node number of its own.
func TestNodeID(t *testing.T) {
	c, err := Load(copyHome(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Node.ID != 0 || c.GWIDNode(SlotListener) != 1 || c.GWIDNode(SlotSch) != 2 || c.GWIDNode(SlotTkmFiles) != 3 {
		t.Fatalf("shipped: node.id %d, nodes %d %d %d; want 0 and 1 2 3", c.Node.ID,
			c.GWIDNode(SlotListener), c.GWIDNode(SlotSch), c.GWIDNode(SlotTkmFiles))
	}

	c, err = Load(copyHome(t, map[string]func(string) string{"etc/m1.toml": replace("[node]\nid = 0", "[node]\nid = 7")}))
	if err != nil {
		t.Fatal(err)
	}
	if c.GWIDNode(SlotSch) != 72 {
		t.Fatalf("node.id 7: sch node %d, want 72", c.GWIDNode(SlotSch))
	}

	// Without [node] at all: id 0.
	c, err = Load(copyHome(t, map[string]func(string) string{"etc/m1.toml": replace("[node]\nid = 0", "")}))
	if err != nil || c.Node.ID != 0 {
		t.Fatalf("no [node]: %v %v", c, err)
	}

	// Every home and slot: distinct, two digits.
	seen := map[int]string{}
	for id := 0; id <= MaxNodeID; id++ {
		for _, slot := range []int{SlotListener, SlotSch, SlotTkmFiles} {
			n := (&Config{Node: Node{ID: id}}).GWIDNode(slot)
			if n < 0 || n > 99 {
				t.Fatalf("home %d slot %d: node %d", id, slot, n)
			}
			if prev, dup := seen[n]; dup {
				t.Fatalf("home %d slot %d: node %d already %s", id, slot, n, prev)
			}
			seen[n] = fmt.Sprintf("home %d slot %d", id, slot)
		}
	}

	for _, tc := range []struct {
		name, edit, lineWith, setting, msg string
	}{
		{"too big", "[node]\nid = 10 # here", "id = 10 # here", "node.id", "0 to 9"},
		{"negative", "[node]\nid = -1 # here", "id = -1 # here", "node.id", "0 to 9"},
		{"not a number", "[node]\nid = \"two\" # here", "id = \"two\" # here", "node.id", ""},
		{"misspelt", "[node]\nidd = 2 # here", "idd = 2 # here", "node.idd", "unknown setting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := copyHome(t, map[string]func(string) string{"etc/m1.toml": replace("[node]\nid = 0  # 0 to 9, different on every host sharing the database (default 0)", tc.edit)})
			_, err := Load(home)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want an *Error, got %v", err)
			}
			want := lineOf(t, home, "etc/m1.toml", tc.lineWith)
			if ce.File != "etc/m1.toml" || ce.Line != want || ce.Setting != tc.setting || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got %q, want etc/m1.toml:%d setting %q containing %q", ce.Error(), want, tc.setting, tc.msg)
			}
		})
	}
}
