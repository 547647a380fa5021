package config

import (
	"fmt"
	"os"
	"syscall"
)

// Ftok derives a System V IPC key from an existing file's identity and a
// project id exactly as glibc's ftok(3) does:
//
//	key = (st_ino & 0xffff) | ((st_dev & 0xff) << 16) | ((proj & 0xff) << 24)
//
// The key is stable while the file is not recreated. Like ftok, it can
// collide for files whose inode numbers agree in their low 16 bits, which is
// why the shipped configuration writes its keys out.
func Ftok(path string, proj byte) (uint32, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("ftok: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("ftok: %s: no inode information on this system", path)
	}
	return uint32(st.Ino&0xffff) | uint32(uint64(st.Dev)&0xff)<<16 | uint32(proj)<<24, nil
}
