module example.com/legacy-chi

go 1.26.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/lib/pq v1.12.3
)
