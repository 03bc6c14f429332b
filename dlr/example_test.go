package dlr_test

import (
	"fmt"
	"time"

	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/pdu"
)

func Example() {
	// The MC side: build a receipt for message "5F3A" (as submit_sm_resp said).
	sub := time.Date(2024, 3, 15, 14, 30, 0, 0, time.UTC)
	r := dlr.New("5F3A", sub, sub.Add(time.Minute), pdu.StateDelivered, "Hello")
	fmt.Println(r.Format())
	tlvs := r.TLVs()

	// The ESME side: parse it back, text and TLVs together.
	got, err := dlr.Parse([]byte(r.Format()), tlvs)
	if err != nil {
		panic(err)
	}
	switch got.State {
	case pdu.StateDelivered:
		fmt.Println(got.ID, "delivered at", got.DoneDate.Format(time.Kitchen))
	case pdu.StateUndeliverable, pdu.StateExpired, pdu.StateRejected:
		fmt.Println(got.ID, "failed:", got.Err)
	}
	// Output:
	// id:5F3A sub:001 dlvrd:001 submit date:2403151430 done date:2403151431 stat:DELIVRD err:000 text:Hello
	// 5F3A delivered at 2:31PM
}

func ExampleParse() {
	r, err := dlr.Parse([]byte("STAT:UNDELIVERABLE ID:c449ab97 ERR:034 Done Date:240315143107"), nil)
	fmt.Println(r.ID, r.State, r.Err, r.DoneDate, err)
	_, err = dlr.Parse([]byte("your message was delivered"), nil)
	fmt.Println(err)
	// Output:
	// c449ab97 UNDELIVERABLE 034 2024-03-15 14:31:07 +0000 UTC <nil>
	// dlr: cannot parse receipt (no message id): your message was delivered
}
