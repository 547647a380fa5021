package daemon

import (
	"errors"
	"testing"

	"go.uber.org/zap/zaptest"
)

func TestClosersReverseOnce(t *testing.T) {
	c := NewClosers("test things", zaptest.NewLogger(t))
	var order []int
	for i := 1; i <= 3; i++ {
		c.Add(func() error {
			order = append(order, i)
			if i == 2 {
				return errors.New("two failed")
			}
			return nil
		})
	}
	c.Close()
	c.Close()
	if len(order) != 3 || order[0] != 3 || order[2] != 1 {
		t.Fatalf("closed in order %v, want 3 2 1 once", order)
	}
}
