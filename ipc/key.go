package ipc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Key names a SysV object. Operators see it in ipcs as 0x followed by eight
// hex digits, and configure it the same way.
type Key int32

// Private is IPC_PRIVATE: a key that always creates a new object, reachable
// only by its id. Tests use it so that they never meet an operator's objects.
const Private Key = 0

func (k Key) String() string { return fmt.Sprintf("0x%08x", uint32(k)) }

// ParseKey reads a key as operators write it: hex with or without 0x
// (0x4d310001, 4d310001). Decimal is not accepted: ipcs prints hex, and a
// decimal look-alike would silently name another object.
func ParseKey(s string) (Key, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "0x"), "0X")
	if t == "" || len(t) > 8 {
		return 0, fmt.Errorf("ipc key %q: want up to 8 hex digits, as ipcs prints it (0x4d310001)", s)
	}
	v, err := strconv.ParseUint(t, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("ipc key %q: want hex digits, as ipcs prints it (0x4d310001)", s)
	}
	return Key(uint32(v)), nil
}

// Ftok derives a key from an existing path and a project id, with the same
// formula as glibc's ftok(3): the low 16 bits of the inode, the low 8 bits of
// the device, and the project id in the top byte. Two paths on one machine
// can collide, as with ftok itself; configure explicit keys where that
// matters.
func Ftok(path string, proj byte) (Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("ftok %s: %w", path, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("ftok %s: no inode information", path)
	}
	if proj == 0 {
		return 0, fmt.Errorf("ftok %s: project id 0 is reserved", path)
	}
	k := uint32(st.Ino&0xffff) | uint32(st.Dev&0xff)<<16 | uint32(proj)<<24
	return Key(k), nil
}
