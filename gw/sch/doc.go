// Package sch is M1's T41 poller (스케줄러): it claims the T41 rows whose
// SEND_TIME has come and queues each into the distributor's lane for its
// JOB_CLASS. cmd/sch runs it through gw/daemon (New, Main, Exit).
//
// # One poll
//
//  1. Room: for each lane DIST.R, DIST.S, DIST.B, room = capacity - Len()
//     (Len counts the ring and the file part). The claim limit is the
//     smallest room of the three, at most sch.batch. A limit of 0 claims
//     nothing: that is the legacy backpressure ("while the distributor's
//     queue is full, claim nothing", capacity 190). The lanes are
//     configured with full = "spill" for the listener's sake; sch keeps
//     below capacity by itself, so its own puts never need to spill, and it
//     looks again every few milliseconds until there is room. One lane full
//     stops every class: ClaimDue takes rows oldest first whatever their
//     class, and a claimed row cannot be handed back.
//  2. store.ClaimDue(now, limit, now - sch.reclaim_after): rows in STATUS 2
//     whose CLAIM_TIME is older than the reclaim time first (a sch died
//     before dbx moved them), then STATUS 1 rows with SEND_TIME <= now,
//     oldest first; they are set to STATUS 2 with CLAIM_TIME now. A claim
//     looks for rows to reclaim at most once a second (reclaimLookEvery):
//     the store reads them from the index T41_IX_RECLAIM (STATUS,
//     CLAIM_TIME, MSG_SEQ) and stops at the first row claimed too recently,
//     so the look costs an index probe however many rows are in STATUS 2,
//     but it is one more statement in the claim's transaction, and during a
//     drain sch claims hundreds of times a second. A row left by a dead sch
//     waits the reclaim time and at most a second more.
//  3. Each row becomes a gw/msg Message: SOURCE T, MSG_SEQ, a new GW_ID,
//     ACCEPT_TIME now, EXPIRE_TIME now + timeouts.validity, DUP_CHECKED N
//     (dist checks the duplicate index), SRC_REF "T41:<MSG_SEQ>". A row
//     that fails validation (bad MSG_TYPE or JOB_CLASS or SEND_TIME 1003,
//     bad numbers 1203, text or subject too long or not EUC-KR 1204) is
//     queued all the same with RESULT set to the code: dist ends it with a
//     Final event, dbx writes it to T41_LOG with STATUS 4 and deletes the
//     T41 row. A bad row never blocks the table. A row whose JOB_CLASS is
//     not R, S or B goes to DIST.S.
//  4. PutBatch per lane, in claim order. A put that cannot store everything
//     (a lane configured "block" that stays full) is retried until it does;
//     a stop cuts that short and leaves the rows not yet queued in STATUS 2,
//     to be claimed again after the reclaim time.
//
// When a claim returns a full batch, the next poll follows at once (a
// backlog drains at the rate of the store and the lanes); otherwise sch
// waits sch.poll_interval.
//
// # Text
//
// T41's text columns are in the database's character set, which the
// drivers hand to Go as UTF-8; queue records hold EUC-KR. sch converts
// SUBJECT and MSG_TEXT to EUC-KR; a character EUC-KR has no code for is
// 1204. Text that is not UTF-8 but is valid EUC-KR (a SQLite row written
// with raw EUC-KR bytes) is taken as it is.
//
// # Duplicates the reclaim rule allows
//
// A sch killed after its claim committed and before (or after) its puts
// leaves rows in STATUS 2. After sch.reclaim_after they are claimed again,
// by any sch, and queued again under new GW_IDs. If the first sch had
// already queued them, and dbx had not yet moved them to T41_LOG by then
// (dist or dbx backlogged or down longer than the reclaim time), the same
// row is in the lanes twice. dist's duplicate check stops the second one:
// both carry DUP_CHECKED N, so dist checks CLIENT_ID+MSG_KEY in the shared
// duplicate index and ends the later one with a Final 1201 (a T41_LOG row
// of its own with STATUS 4, RESULT_CODE 1201); the message is sent once.
// The reclaim time must therefore stay well below timeouts.duplicate_window.
//
// A database outage stops dbx as well as sch, so rows whose Accept waits in
// dbx's backlog look abandoned when the database comes back. sch therefore
// reclaims nothing during an outage nor until the database has been back
// for the reclaim time (Sch.reclaimAllowed): before this rule a 20 s outage
// with a 10 s reclaim time made 8,940 extra 1201 rows in a chaos run. For
// the same reason it reclaims nothing while dbx is behind with the database
// up (Sch.dbxBehind): DBX has spilled to its file part, or its oldest
// waiting event is older than 10 s (or half the reclaim time). Rows a dead
// sch left wait for dbx to catch up; nothing they could become would be
// recorded before that anyway.
//
// # Several sch
//
// Any number of sch processes (two hosts for availability) may poll one
// T41: PostgreSQL and Oracle claims skip rows another claim holds (FOR
// UPDATE SKIP LOCKED) and SQLite runs one writer at a time, so no row is
// claimed twice (store.ClaimDue). Tested with two sch processes on
// PostgreSQL and 10,000 due rows. Each needs its own GW_ID node number
// (Options.Node): cmd/sch takes config.GWIDNode(config.SlotSch), node.id of
// etc/m1.toml × 10 + 2, so sch on two hosts whose node.id differ never make
// the same GW_ID. On one host each also needs its own process name
// (Options.Name, default "sch").
//
// # A database that is down
//
// store.IsUnavailable errors (and any other store error) are waited out
// with a doubling backoff from RetryMin to RetryMax. The first failure of an
// outage is logged once as a warning, its end once with the outage's
// length; nothing in between. sch never exits on a database error.
//
// # Process table
//
// sch registers under its name with role "sch", stamps its heartbeat, and
// counts In (rows claimed), Out (records queued) and Errors (failed claims
// and puts), with the last error's text.
package sch
