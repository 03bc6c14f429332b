package pdu

// NewResponse returns the empty response to req: the response's type, req's
// sequence number and the given status. It returns nil for PDUs that get no
// response (responses themselves, alert_notification, outbind) and for
// custom requests whose response id is not registered.
func NewResponse(req PDU, status Status) PDU {
	id := req.CommandID()
	if !id.HasResponse() {
		return nil
	}
	resp := New(id.Response())
	if resp == nil {
		return nil
	}
	*resp.Head() = Header{CommandStatus: status, SequenceNumber: req.Head().SequenceNumber}
	return resp
}

// NewGenericNack returns a generic_nack with the given status for the PDU
// whose sequence number is seq (0 when it could not be read).
func NewGenericNack(seq uint32, status Status) *GenericNack {
	return &GenericNack{Header: Header{CommandStatus: status, SequenceNumber: seq}}
}

// Reply returns what to send back for a PDU that failed to decode with err,
// as the specification asks: the request's own response with err's status
// for a known request, a generic_nack for an unknown command id or a bad
// length, and nil when nothing should be sent (a response, or a PDU that
// gets no response).
func Reply(err *Error) PDU {
	id := err.CommandID
	switch {
	case err.Status == ESME_RINVCMDID || err.Fatal || id == 0:
		if id.IsResponse() && !err.Fatal && id != 0 {
			return nil // an unknown response is not answered
		}
		return NewGenericNack(err.Header.SequenceNumber, err.Status)
	case id.IsResponse() || !id.HasResponse():
		return nil
	}
	resp := New(id.Response())
	if resp == nil {
		return NewGenericNack(err.Header.SequenceNumber, err.Status)
	}
	*resp.Head() = Header{CommandStatus: err.Status, SequenceNumber: err.Header.SequenceNumber}
	return resp
}
