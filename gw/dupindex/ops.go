package dupindex

import (
	"fmt"
	"time"

	"go.uber.org/zap"
)

// maxClaimAttempts bounds the retries of an insert whose chosen slot was
// taken by another inserter between the scan and the claim.
const maxClaimAttempts = 1000

// scanResult is what one pass over a key's two probe windows found.
type scanResult struct {
	match, cand         uint64 // slot numbers
	matchWord, candWord uint64 // their state words when seen
	hasMatch, hasCand   bool
	candDist            uint32 // cand's distance from its window's home
}

// live reports whether state word w (stLive) is within the window at now.
// An insertion time after now (a clock stepped back) counts as live.
func (x *Index) live(w uint64, now uint32) bool {
	return int64(now)-int64(wordLow(w)) < x.window
}

// scan walks k's two probe windows, each from its home slot. A window's
// walk stops at a slot never used (stEmpty): an insert takes the first
// usable slot of the window it chooses and a used slot never becomes empty
// again, so no entry of k lies beyond one. held is the stripe lock the
// caller holds, or ^0 for none. wantCand asks for the slot an insert should
// take: of the first usable slot of each window, the one nearer its home,
// which keeps clusters short (two-choice linear probing).
func (x *Index) scan(k *key, hp hashed, now uint32, held uint32, wantCand bool) scanResult {
	var r scanResult
	for _, home := range hp.home {
		if x.scanWindow(k, hp.tag, home, now, held, wantCand, &r) {
			return r
		}
	}
	return r
}

// scanWindow walks one window; it reports true on a match.
func (x *Index) scanWindow(k *key, tag uint32, home uint64, now uint32, held uint32, wantCand bool, r *scanResult) bool {
	slot := home
	haveOwn := false // a candidate found in this window
	offer := func(d uint32, w uint64) {
		if wantCand && !haveOwn {
			haveOwn = true
			if !r.hasCand || d < r.candDist {
				r.cand, r.candWord, r.candDist, r.hasCand = slot, w, d, true
			}
		}
	}
	for d := range x.hdr.Probe {
		sw := x.stateWord(slot)
		w := sw.Load()
		switch wordState(w) {
		case stEmpty:
			offer(d, w)
			return false
		case stLive:
			if !x.live(w, now) {
				offer(d, w)
				break
			}
			// The second load proves the key words were read while
			// the slot held the entry the state word names.
			if wordAux(w) == tag && x.keyEquals(slot, k) && sw.Load() == w {
				r.match, r.matchWord, r.hasMatch = slot, w, true
				return true
			}
		case stFree:
			offer(d, w)
		case stWriting:
			if wantCand && !haveOwn && x.writerDead(w, held) {
				offer(d, w)
			}
		}
		if slot++; slot == x.hdr.Slots {
			slot = 0
		}
	}
	return false
}

// writerDead reports whether the claimer of a stWriting slot is gone. A
// claimer holds its stripe lock from before the claim until after it
// publishes, so a claim whose lock is free, held by a dead process, or held
// by the caller itself was left by a writer that died.
func (x *Index) writerDead(w uint64, held uint32) bool {
	li := wordAux(w)
	if li >= x.hdr.Locks || li == held {
		return true
	}
	lw := x.lockWord(li).Load()
	return lw == 0 || holderDead(lw)
}

// CheckAndInsert reports whether (clientID, msgKey) was recorded within the
// window before now, and records it with time now when it was not. Of
// several callers inserting one key at once, in any processes, exactly one
// gets dup == false. A key recorded longer than the window ago counts as
// new. ErrIndexFull (wrapped) when there is no room: nothing was recorded.
func (x *Index) CheckAndInsert(clientID, msgKey string, now time.Time) (dup bool, err error) {
	k, err := makeKey(clientID, msgKey)
	if err != nil {
		return false, err
	}
	t, err := seconds(now)
	if err != nil {
		return false, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return false, ErrClosed
	}
	hp := place(x.hdr.Seed, &k, x.hdr.Slots, x.hdr.Locks)
	x.lock(hp.lock)
	defer x.unlock(hp.lock)
	for range maxClaimAttempts {
		r := x.scan(&k, hp, t, hp.lock, true)
		if r.hasMatch {
			x.bump(ctrDuplicates)
			return true, nil
		}
		if !r.hasCand {
			x.bump(ctrFull)
			return false, fmt.Errorf("%w: both %d-slot probe windows of %s hold only live entries (capacity %d)",
				ErrIndexFull, x.hdr.Probe, k, x.hdr.Slots)
		}
		// Publish last: claim the slot (stWriting, naming our lock),
		// write the key, then make it live in one atomic store. A writer
		// killed in between leaves a claim others recognise as dead.
		claim := mkWord(stWriting, hp.lock, claimNonce.Add(1))
		sw := x.stateWord(r.cand)
		if !sw.CompareAndSwap(r.candWord, claim) {
			continue // another key's inserter took it first
		}
		x.storeKey(r.cand, &k)
		if !sw.CompareAndSwap(claim, mkWord(stLive, hp.tag, t)) {
			// Only a corrupted lock word lets another process take
			// our claim. Scan again rather than report success.
			x.log.Error("duplicate-index slot changed under its writer", zap.Uint64("slot", r.cand))
			continue
		}
		x.bump(ctrInserted)
		switch wordState(r.candWord) {
		case stLive:
			x.bump(ctrReusedExpired)
		case stWriting:
			x.bump(ctrReclaimedWriting)
		}
		return false, nil
	}
	return false, fmt.Errorf("dupindex: %s: gave up after %d contended claims", k, maxClaimAttempts)
}

// Contains reports whether (clientID, msgKey) was recorded within the window
// before now. It takes no lock: an insert of the same key running at the
// same time may or may not be seen.
func (x *Index) Contains(clientID, msgKey string, now time.Time) (bool, error) {
	k, err := makeKey(clientID, msgKey)
	if err != nil {
		return false, err
	}
	t, err := seconds(now)
	if err != nil {
		return false, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return false, ErrClosed
	}
	hp := place(x.hdr.Seed, &k, x.hdr.Slots, x.hdr.Locks)
	return x.scan(&k, hp, t, ^uint32(0), false).hasMatch, nil
}

// Remove forgets (clientID, msgKey) if it is recorded within the window
// before now, and reports whether it was. The listener calls it when the
// message it checked could not be stored and it answered 2001, so that the
// client's retry with the same MSG_KEY is not rejected as a duplicate (see
// the package doc).
func (x *Index) Remove(clientID, msgKey string, now time.Time) (bool, error) {
	k, err := makeKey(clientID, msgKey)
	if err != nil {
		return false, err
	}
	t, err := seconds(now)
	if err != nil {
		return false, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return false, ErrClosed
	}
	hp := place(x.hdr.Seed, &k, x.hdr.Slots, x.hdr.Locks)
	x.lock(hp.lock)
	defer x.unlock(hp.lock)
	for range maxClaimAttempts {
		r := x.scan(&k, hp, t, hp.lock, false)
		if !r.hasMatch {
			return false, nil
		}
		// Fails only if another process, whose clock is later, took the
		// slot as expired meanwhile: scan again.
		if x.stateWord(r.match).CompareAndSwap(r.matchWord, mkWord(stFree, 0, 0)) {
			x.bump(ctrRemoved)
			return true, nil
		}
	}
	return false, fmt.Errorf("dupindex: remove %s: gave up after %d contended attempts", k, maxClaimAttempts)
}

// CountLive counts the entries recorded within the window before now, by
// reading every slot: for operators and capacity checks, not the hot path.
func (x *Index) CountLive(now time.Time) (uint64, error) {
	t, err := seconds(now)
	if err != nil {
		return 0, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return 0, ErrClosed
	}
	var n uint64
	for s := range x.hdr.Slots {
		if w := x.stateWord(s).Load(); wordState(w) == stLive && x.live(w, t) {
			n++
		}
	}
	return n, nil
}

func logLock(i uint32, holder uint64, waited time.Duration) []zap.Field {
	return []zap.Field{
		zap.Uint32("lock", i),
		zap.Uint64("holder_pid", holder>>32),
		zap.Uint32("holder_start", uint32(holder)),
		zap.Duration("waited", waited),
	}
}
