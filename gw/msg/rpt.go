package msg

import (
	"strconv"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// RPT is one RPT record: a message's final result for eai_lsnr to send to
// its client as a REPORT.
type RPT struct {
	ClientID   string
	MsgKey     string
	GWID       string
	Carrier    string
	DoneTime   string
	ReportCode telegram.Code
}

// Encode appends the RPT record to dst.
func (p *RPT) Encode(dst []byte) []byte {
	dst = layout.AppendN(dst, Version, 2)
	dst = layout.AppendAN(dst, p.ClientID, 10)
	dst = layout.AppendAN(dst, p.MsgKey, 20)
	dst = layout.AppendNDigits(dst, p.GWID, 20)
	dst = layout.AppendAN(dst, p.Carrier, 4)
	dst = layout.AppendNDigits(dst, p.DoneTime, 14)
	return layout.AppendN(dst, uint64(p.ReportCode), 4)
}

// DecodeRPT decodes an RPT record.
func DecodeRPT(b []byte) (RPT, error) {
	var r layout.Record
	if err := RPTLayout.Decode(b, &r); err != nil {
		return RPT{}, err
	}
	if ver := r.Field(0).Int(); ver != Version {
		return RPT{}, &layout.Error{Layout: RPTLayout.Name, Field: "VERSION", Kind: layout.FieldErr, Reason: "record version " + strconv.Itoa(ver)}
	}
	s := string(b)
	return RPT{ClientID: r.Field(1).In(s), MsgKey: r.Field(2).In(s), GWID: zerosEmpty(r.Field(3), s),
		Carrier: r.Field(4).In(s), DoneTime: zerosEmpty(r.Field(5), s), ReportCode: telegram.Code(r.Field(6).Int())}, nil
}

// Report is the REPORT telegram body of the record.
func (p *RPT) Report() telegram.Report {
	return telegram.Report{MsgKey: p.MsgKey, GWID: p.GWID, Carrier: p.Carrier, DoneTime: p.DoneTime, ReportCode: p.ReportCode}
}
