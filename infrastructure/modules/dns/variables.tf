variable "zone_name" {
  description = "Existing public Route 53 hosted zone that holds the records, e.g. themarkup.org."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.zone_name))
    error_message = "zone_name must be a lowercase domain name without a trailing dot."
  }
}

variable "domain_name" {
  description = "Host name the site is served on and the certificate is issued for, e.g. payments.themarkup.org."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.domain_name)) && !startswith(var.domain_name, "*")
    error_message = "domain_name must be a lowercase host name (no wildcard)."
  }
}

variable "create_alias_records" {
  description = "Create the Route 53 alias record for domain_name. Turn off to serve the site under the load balancer's own name while DNS stays elsewhere; the certificate is validated either way."
  type        = bool
  default     = true
}

variable "lb_dns_name" {
  description = "DNS name of the load balancer the alias points to."
  type        = string
}

variable "lb_zone_id" {
  description = "Route 53 hosted zone ID of the load balancer the alias points to."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
