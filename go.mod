module github.com/smppkit/smpp

go 1.26
