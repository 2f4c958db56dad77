package api

// GuildSummary names the anonymous body of GetGuildResponse.JSON200: an
// alias, so its fields must stay in the generated order (reordering
// them breaks the assignment below).
type GuildSummary = struct { // want: alignment
	Online bool  `json:"online"`
	ID     int64 `json:"id"`
	Muted  bool  `json:"muted"`
}

// Summary returns the 200 body of a GetGuild response.
func Summary(r GetGuildResponse) GuildSummary {
	if r.JSON200 == nil {
		return GuildSummary{}
	}
	return *r.JSON200
}

// pageToken is a cursor; it only moves pointer bytes, which saves no
// memory, so it is not reported unless asked.
type pageToken struct {
	offset int
	after  *string
}

// filter is the parsed query of a list request.
type filter struct { // want: alignment
	// archived includes archived guilds.
	archived bool
	// limit caps the page size.
	limit int64
	// mine keeps the caller's guilds.
	mine bool
}

var (
	_ = pageToken{}
	_ = filter{}
)
