// Command ipcq is the operator's view of M1's queues, in the manner of
// ipcs/ipcrm: list them, look inside, move, purge, save, load and remove
// them, and list the process table.
//
//	ipcq ls                      one line per configured queue
//	ipcq stat NAME               everything the queue's header says
//	ipcq peek NAME [-n N]        the oldest N records, decoded where known
//	ipcq dump NAME               every record, decoded and in hex
//	ipcq mv SRC DST [-n N]       move records (at least once if killed midway)
//	ipcq purge NAME [--yes]      drop every record (asks unless --yes)
//	ipcq rm NAME [--force]       remove the segment and semaphores
//	ipcq rm --all [--yes]        remove every queue and the process table
//	ipcq create [NAME...]        create the configured queues that are missing
//	ipcq save NAME DIR           move the ring's records into a file queue in DIR
//	ipcq save NAME               move the ring's records into the queue's own file part
//	ipcq save --all              the same for every queue with save_on_stop (m1stop)
//	ipcq load NAME DIR           move a saved file queue's records into the queue
//	ipcq ps                      the process table
//	ipcq processes               the suite's processes in start order
//	ipcq paths                   run= and log= directories, for the scripts
//	ipcq running NAME... [--wait D]  exit 0 once every NAME is alive and running
//
// Exit codes: 0 ok, 1 error (the message names the queue and why), 2 usage.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
