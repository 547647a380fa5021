package shmq

import (
	"sync/atomic"

	"github.com/m1gw/m1/ipc"
)

// Header and slot layout: part of the format (see the package doc).
const (
	magic         uint64 = 0x0100_514d_4853_314d // "M1SHMQ\x00\x01" little-endian
	formatVersion uint32 = 1

	headerSize = 256
	slotHeader = 24
	nameLen    = 32

	offMagic      = 0
	offVersion    = 8
	offRecordSize = 12
	offSlotSize   = 16
	offCapacity   = 20
	offCreated    = 24
	offName       = 32

	offTail        = 64
	offPuts        = 72
	offFullEvents  = 80
	offProdWaiting = 88

	offHead        = 128
	offCommit      = 136
	offRedeliver   = 144
	offGets        = 152
	offCommits     = 160
	offRedelivered = 168
	offCorrupt     = 176
	offConsWaiting = 184
	offConsumer    = 192
	offSpilling    = 200
	offLastSpill   = 208
	offFileWriters = 216

	slotPos     = 0
	slotPutTime = 8
	slotLength  = 16
	slotCRC     = 20
	slotData    = 24
)

// Semaphores of the queue's set: part of the format.
const (
	semMutex    = 0
	semNotEmpty = 1
	semNotFull  = 2
	semCount    = 3
)

// SlotSize is the bytes one slot takes for records of recordSize bytes.
func SlotSize(recordSize int) int { return (slotHeader + recordSize + 7) &^ 7 }

// SegmentSize is the bytes a queue of this geometry needs.
func SegmentSize(capacity, recordSize int) int { return headerSize + capacity*SlotSize(recordSize) }

// header gives typed access to the words of a mapped header.
type header struct {
	magic      *atomic.Uint64
	version    *atomic.Uint32
	recordSize *atomic.Uint32
	slotSize   *atomic.Uint32
	capacity   *atomic.Uint32
	created    *atomic.Int64

	tail        *atomic.Uint64
	puts        *atomic.Uint64
	fullEvents  *atomic.Uint64
	prodWaiting *atomic.Uint32

	head        *atomic.Uint64
	commit      *atomic.Uint64
	redeliver   *atomic.Uint64
	gets        *atomic.Uint64
	commits     *atomic.Uint64
	redelivered *atomic.Uint64
	corrupt     *atomic.Uint64
	consWaiting *atomic.Uint32
	consumer    *atomic.Uint64
	spilling    *atomic.Uint32
	lastSpill   *atomic.Int64
	fileWriters *atomic.Uint32
}

func mapHeader(mem []byte) header {
	return header{
		magic:      ipc.Uint64At(mem, offMagic),
		version:    ipc.Uint32At(mem, offVersion),
		recordSize: ipc.Uint32At(mem, offRecordSize),
		slotSize:   ipc.Uint32At(mem, offSlotSize),
		capacity:   ipc.Uint32At(mem, offCapacity),
		created:    ipc.Int64At(mem, offCreated),

		tail:        ipc.Uint64At(mem, offTail),
		puts:        ipc.Uint64At(mem, offPuts),
		fullEvents:  ipc.Uint64At(mem, offFullEvents),
		prodWaiting: ipc.Uint32At(mem, offProdWaiting),

		head:        ipc.Uint64At(mem, offHead),
		commit:      ipc.Uint64At(mem, offCommit),
		redeliver:   ipc.Uint64At(mem, offRedeliver),
		gets:        ipc.Uint64At(mem, offGets),
		commits:     ipc.Uint64At(mem, offCommits),
		redelivered: ipc.Uint64At(mem, offRedelivered),
		corrupt:     ipc.Uint64At(mem, offCorrupt),
		consWaiting: ipc.Uint32At(mem, offConsWaiting),
		consumer:    ipc.Uint64At(mem, offConsumer),
		spilling:    ipc.Uint32At(mem, offSpilling),
		lastSpill:   ipc.Int64At(mem, offLastSpill),
		fileWriters: ipc.Uint32At(mem, offFileWriters),
	}
}

// slot gives typed access to one slot.
type slot struct {
	pos     *atomic.Uint64
	putTime *atomic.Int64
	length  *atomic.Uint32
	crc     *atomic.Uint32
	data    []byte
}

func (q *Queue) slotAt(p uint64) slot {
	off := headerSize + int(p%q.capacity)*q.slotSize
	return slot{
		pos:     ipc.Uint64At(q.mem, off+slotPos),
		putTime: ipc.Int64At(q.mem, off+slotPutTime),
		length:  ipc.Uint32At(q.mem, off+slotLength),
		crc:     ipc.Uint32At(q.mem, off+slotCRC),
		data:    q.mem[off+slotData : off+slotData+q.recordSize],
	}
}

func consumerWord(pid int, start uint64) uint64 {
	return uint64(uint32(pid))<<32 | uint64(uint32(start))
}

func consumerPID(w uint64) int { return int(w >> 32) }
