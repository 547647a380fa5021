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

func TestMsqidDSSize(t *testing.T) {
	if got := unsafe.Sizeof(msqidDS{}); got != 120 {
		t.Fatalf("msqidDS is %d bytes, the kernel's msqid64_ds is 120", got)
	}
}

func TestMsgQueueRoundTrip(t *testing.T) {
	q, err := CreateMsgQueue(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Remove()
	if n, err := q.Qbytes(); err != nil || n != 1<<20 {
		t.Logf("qbytes = %d, %v (raising the limit needs root)", n, err)
	}
	msg := make([]byte, 8+5)
	msg[0] = 1
	copy(msg[8:], "hello")
	if err := q.Send(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := q.Receive(buf)
	if err != nil || string(buf[8:8+n]) != "hello" {
		t.Fatalf("Receive = %q, %v", buf[8:8+n], err)
	}
}
