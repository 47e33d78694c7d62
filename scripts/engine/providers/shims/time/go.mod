module github.com/hashicorp/terraform-provider-time/shim

go 1.25.8

require github.com/hashicorp/terraform-provider-time v0.0.0
