module github.com/smppkit/smpp

go 1.26.0

require (
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/crypto v0.59.0
)
