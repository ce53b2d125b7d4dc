package webserve

import "time"

// timeZero disables Last-Modified: ETags cover revalidation.
var timeZero time.Time
