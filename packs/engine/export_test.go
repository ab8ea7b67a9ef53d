package engine

// WithLimits returns a copy of the run with other evaluation limits (zero
// keeps a limit), so tests reach them with small inputs.
func (r *Run) WithLimits(resource, stack, stackTotal uint64, maxDepth int) *Run {
	c := *r
	if resource > 0 {
		c.limits.resource = resource
	}
	if stack > 0 {
		c.limits.stack = stack
	}
	if stackTotal > 0 {
		c.limits.stackTotal = stackTotal
	}
	if maxDepth > 0 {
		c.limits.maxDepth = maxDepth
	}
	return &c
}
