package ipc

import (
	"testing"
	"unsafe"
)

// The kernel writes struct semid64_ds into semidDS: its size is part of the
// ABI (x86-64: 48-byte ipc64_perm + 7 longs).
func TestSemidDSSize(t *testing.T) {
	if got := unsafe.Sizeof(semidDS{}); got != 104 {
		t.Fatalf("semidDS is %d bytes, the kernel's semid64_ds is 104", got)
	}
	if got := unsafe.Sizeof(Sembuf{}); got != 6 {
		t.Fatalf("Sembuf is %d bytes, struct sembuf is 6", got)
	}
}
