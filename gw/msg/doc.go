// Package msg holds the records that flow between M1's processes through
// its queues, declared with gw/layout, and the GW_ID generator.
//
//   - Message (DIST.R/S/B, SND.*): a common part (ids, source, client,
//     class, times, routing) then an individual part (numbers, text):
//
//     +--------------------------- common, 176 bytes -------------------------+-- individual, 76 + TEXT_LEN --+
//     | VERSION GW_ID SOURCE CLIENT_ID MSG_KEY MSG_SEQ MSG_TYPE JOB_CLASS      | CALLBACK DEST SUBJECT         |
//     | ACCEPT_TIME SEND_TIME EXPIRE_TIME CARRIER SENDER RESULT DUP_CHECKED    | TEXT_LEN TEXT                 |
//     | REROUTES SRC_REF                                                       |                               |
//     +------------------------------------------------------------------------+-------------------------------+
//
//     MaxMessageSize (2252) is the record size of the message queues.
//
//   - Event (DBX): KIND, GW_ID, EVENT_TIME, carrier fields, codes, then for
//     Accept and Final events the whole message record. MaxEventSize (2342)
//     is the DBX queue's record size.
//
//   - RPT (RPT): a final result for eai_lsnr to REPORT; RPTSize (74) bytes.
//
//   - Bulk: one record of a tkm_files bulk file (BulkRecordLen, 2122 bytes,
//     then LF or CR LF), and the lines of its result file.
//
// Every record starts with VERSION N2 (01): a reader refuses a version it
// does not know, so a queue left over from an older M1 fails loudly, not
// silently. Field by field tables: docs/LAYOUTS.md, generated from the
// declarations in layouts.go and bulk.go. All sizes and field orders are
// part of the format.
//
// In the Go structs, AN values are held without padding; K values (Subject,
// Text) as EUC-KR bytes; times as their 14 digits, "" for all zeros; GW_ID
// as its 20 digits. Encode appends to a caller's buffer and allocates
// nothing with room there; Decode costs one allocation (the string of the
// record, which every field is a substring of).
//
// Encoding never fails: a value longer than its field is cut (K at a
// character boundary). Intakes validate first (Message.Validate).
package msg
