// Command m1passwd prints the hash of a client password for etc/clients.toml.
//
//	$ m1passwd            # asks for the password on standard input
//	password: demo01
//	pbkdf2-sha256$100000$...$...
//
// Paste the line into the client's password = "..." and send eai_lsnr a
// SIGHUP (or restart it). The password itself is stored nowhere.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/m1gw/m1/gw/config"
)

func main() {
	fmt.Fprint(os.Stderr, "password: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(os.Stderr, "m1passwd: no password read")
		os.Exit(2)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		fmt.Fprintln(os.Stderr, "m1passwd: empty password")
		os.Exit(2)
	}
	h, err := config.HashPassword(pw)
	if err != nil {
		fmt.Fprintln(os.Stderr, "m1passwd:", err)
		os.Exit(1)
	}
	fmt.Println(h)
}
