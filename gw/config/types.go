package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as Go writes one: "72h", "90s",
// "250ms". TOML has no duration type; a bare number is refused so that
// nobody wonders whether 30 means seconds or milliseconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalTOML implements toml.Unmarshaler.
func (d *Duration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("a duration is a string such as \"30s\", \"5m\" or \"72h\" (got %v)", v)
	}
	x, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("a duration is a string such as \"30s\", \"5m\" or \"72h\" (got %q)", s)
	}
	*d = Duration(x)
	return nil
}

// MarshalText lets an encoded Config show durations as operators write them.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// QueueKey is a queue's System V IPC key as operators write it: a hex string
// such as "0x4d310001" (the form ipcs prints), a TOML integer, or "auto".
// With "auto" the key is derived from the queue's file-queue directory in
// the manner of ftok(3), see Queue.ResolveKey.
type QueueKey struct {
	Auto  bool
	Value uint32 // when !Auto
}

// ParseKey parses a key as operators write it: "0x4d310001", "1295122433"
// or "auto".
func ParseKey(s string) (QueueKey, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "auto") {
		return QueueKey{Auto: true}, nil
	}
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return QueueKey{}, fmt.Errorf("key %q is neither a 32-bit number such as \"0x4d310001\" nor \"auto\"", s)
	}
	if v == 0 {
		return QueueKey{}, fmt.Errorf("key 0 is IPC_PRIVATE and cannot name a shared queue")
	}
	return QueueKey{Value: uint32(v)}, nil
}

// UnmarshalTOML implements toml.Unmarshaler.
func (k *QueueKey) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		q, err := ParseKey(x)
		if err != nil {
			return err
		}
		*k = q
		return nil
	case int64:
		if x <= 0 || x > 0xffffffff {
			return fmt.Errorf("key %d is not a positive 32-bit number", x)
		}
		*k = QueueKey{Value: uint32(x)}
		return nil
	}
	return fmt.Errorf("key must be a hex string such as \"0x4d310001\", an integer, or \"auto\" (got %v)", v)
}

func (k QueueKey) String() string {
	if k.Auto {
		return "auto"
	}
	return fmt.Sprintf("0x%08x", k.Value)
}

// MarshalText writes the key as it is read.
func (k QueueKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// IsZero reports whether the key was not set.
func (k QueueKey) IsZero() bool { return !k.Auto && k.Value == 0 }
