// Package smsgate is a backend for SMSGate (SMS Gateway for Android): it
// sends the gateway's messages through the SMSGate HTTP API — the cloud
// service, a private server, or a phone in local mode — and turns
// SMSGate's webhooks into state Updates and MO messages.
//
// Sending. Submit makes one POST /messages per message: the parts of a
// long message (Group/Part/Parts, concatenated by UDH or SAR) are decoded
// by data_coding with their UDHs taken off, joined, and sent as ONE
// textMessage with the whole text — the phone splits it again. Each part
// keeps its gateway id and gets its own Updates. 8-bit data (data_coding
// 0x04, or a class with 8-bit data) with an application port in the UDH
// (IE 0x04 or 0x05) is sent as a dataMessage to that port; 8-bit data
// without a port is refused (Rejected, CodeNoPort), since SMSGate can only
// send data to a port. An international destination (TON 1) becomes
// "+digits" and is validated as E.164; other numeric destinations go as
// they are with skipPhoneValidation=true (the phone dials them as a local
// user would). withDeliveryReport is registered_delivery&3 != 0, ExpireAt
// becomes validUntil (absolute, so a retry does not extend it), a future
// ScheduleAt becomes scheduleAt, and Options give simNumber, priority and
// deviceId.
//
// Idempotency. The request's id is ClientID of the first part's gateway
// id, so the gateway retrying a Submit whose answer was lost names the same
// message: SMSGate answers 409, which Submit takes as success and follows
// with GET /messages/{id}. The POST carries an Idempotency-Key header too,
// so net/http itself resends it once over a fresh connection when a
// kept-alive one turns out dead; otherwise Submit makes one attempt, and
// retrying with back-off is the gateway's job.
//
// Errors. Transport errors, timeouts, 5xx, 408 and 429 are temporary
// (plain errors). Other 4xx are a *backend.PermanentError: Rejected (404
// and 410: Undeliverable) with the HTTP status as ErrorCode. After
// Options.BreakerThreshold (5) consecutive failures the circuit breaker
// opens: every request fails at once with backend.ErrUnavailable for
// Options.BreakerCooldown (10 s), then one probe request goes through; its
// success closes the breaker, its failure opens it again.
//
// States. Pending → Accepted, Processed and Sent → Enroute, Delivered →
// Delivered, Failed → Undeliverable (the failure reason's Android
// SmsManager result code as ErrorCode, 1 if unknown; a reason telling of
// expiry → Expired), Cancelled → Deleted. A state is reported only when it
// advances (Accepted, then Enroute, then a final one) and a final state is
// never replaced, so duplicate and out-of-order webhooks end in one final
// Update per part.
//
// Webhooks. Start registers sms:sent, sms:delivered, sms:failed,
// sms:cancelled, sms:received and sms:data-received at
// Options.WebhookBaseURL + Options.WebhookPath (DefaultWebhookPath), with
// "?account=NAME" for an account with its own credentials, under ids from
// WebhookID; registrations at our URL under other ids are deleted, so a
// crash leaves nothing behind that a restart does not tidy. Stop deletes
// them. WebhookHandler is the receiver smppd mounts. A webhook about an
// SMSGate id not yet known is held (Options.HoldFor, MaxHeld) for the POST
// that creates it to return; still unknown then (a message sent before a
// restart), it is reported by BackendID alone.
//
// MO. sms:received becomes an MO with the text encoded in the GSM 7-bit
// default alphabet (data_coding 0, unpacked) when it can carry it, else
// UCS-2 (8); sms:data-received becomes 8-bit data (0x04). Source is the
// sender ("+digits": TON 1/NPI 1); Dest comes from Options.Destinations,
// by device id, then account, then "", else the device id itself (if it
// fits an SMPP address; else empty). The
// webhook is answered only after Events.Received returned nil.
package smsgate
