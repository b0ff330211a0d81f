// Tools module for proto/generate.sh: pins protoc-gen-go to the same
// google.golang.org/protobuf version as the root module's runtime. It is a
// module of its own so that the generator never becomes a dependency of the
// library.
module github.com/firehose-go/firehose/proto/tools

go 1.26

tool google.golang.org/protobuf/cmd/protoc-gen-go

require google.golang.org/protobuf v1.36.12 // indirect
