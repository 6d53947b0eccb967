package realtime

// StopPollers marks h's pollers stopped, as an error of epoll_wait would:
// they refuse connections from then on.
func StopPollers(h *Hub) {
	for _, p := range h.polls.Load().ps {
		p.dead.Store(true)
	}
}
