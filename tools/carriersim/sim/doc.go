// Package sim is the carrier simulator of tools/carriersim, importable so
// that tests and benchmarks run it in-process: the SMS centers of KT and
// SKT and the relay (중계사) in front of LG U+, each speaking its
// gw/carrier dialect on its own port.
//
// What it does with a submit: after AckLatency it answers with a SubmitResp
// (accepted, or throttled when the server is over its TPS ceiling); for an
// accepted one it draws a result from Mix and sends a Report after a delay
// drawn uniformly from [ReportDelayMin, ReportDelayMax]. Reports belong to
// the account (dialect and login), not to the connection: they go out on
// any connection logged in with that account, and a report not answered
// when its connection ends goes out again on the next one, as carriers do.
//
// It counts everything (Stats), and in particular submits of a reference
// (the GW_ID M1 puts in the dialect's reference field) it had already
// received: the duplicates the end-to-end tests bound by the sender's
// window. Links are dropped on command (Drop, the control port, SIGUSR1 in
// the tool) or at random (DropProb per submit).
//
// # Control port
//
// A line protocol on TCP, one command a line, one answer a line:
//
//	STATS            the Stats as one line of JSON
//	DROP [SERVER]    close every connection (of one server); "OK <n>"
//	RESET            zero the counters (and the references seen); "OK"
package sim
