package sender

import (
	"bufio"
	"net"

	"github.com/m1gw/m1/gw/layout"
)

func layoutEUCKR(s string) ([]byte, error) { return layout.ToEUCKR(s) }

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
