package lsnr

import (
	"errors"
	"net"
)

func asNetErr(err error, ne *net.Error) bool { return errors.As(err, ne) }
