package proxy

// metrics records what GET /metrics reports; a nil *metrics records nothing.
type metrics struct{}

func (m *metrics) fallback(from, to string)                          {}
func (m *metrics) retry(model string)                                {}
func (m *metrics) failover(model string)                             {}
func (m *metrics) cooldown(model string, d *deployment)              {}
func (m *metrics) answered(model string, d *deployment, rec *record) {}
