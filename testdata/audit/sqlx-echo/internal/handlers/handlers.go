// Package handlers holds the echo handlers.
package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4" // want: router

	"example.com/sqlx-echo/api"
	"example.com/sqlx-echo/internal/store"
)

// Handlers serve the API.
type Handlers struct {
	Store store.Store
}

// GetGuild returns one guild.
func (h *Handlers) GetGuild(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	g, err := h.Store.Guild(c.Request().Context(), id) // want: cache timeouts
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	}
	return c.JSON(http.StatusOK, api.GuildSummary{ID: g.ID, Online: true})
}

// ListMembers reads the member ids, then each member: N+1 through the
// interface.
func (h *Handlers) ListMembers(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	ids, err := h.Store.MemberIDs(ctx, id) // want: cache
	if err != nil {
		return err
	}
	out := make([]store.Member, 0, len(ids))
	for _, mid := range ids {
		m, err := h.Store.Member(ctx, mid) // want: batch cache
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	return c.JSON(http.StatusOK, out)
}

// CreateGuild inserts a guild: a write, so the cache rule leaves it alone.
func (h *Handlers) CreateGuild(c echo.Context) error {
	var in api.NewGuild
	if err := c.Bind(&in); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	id, err := h.Store.CreateGuild(ctx, store.Guild{Name: in.Name, Tag: in.Tag})
	if err != nil {
		return err
	}
	go func() { // want: goroutines
		_ = h.Store.Touch(context.Background(), id) // want: timeouts
	}()
	return c.JSON(http.StatusCreated, map[string]int64{"id": id})
}

// AddMembers inserts members one by one.
func (h *Handlers) AddMembers(c echo.Context) error {
	var in []store.Member
	if err := c.Bind(&in); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	for _, m := range in {
		if err := h.Store.AddMember(ctx, m); err != nil { // want: batch
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// Export encodes the guild's member names into a fresh buffer.
func (h *Handlers) Export(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	ids, err := h.Store.MemberIDs(ctx, id) // want: cache
	if err != nil {
		return err
	}
	names, err := h.Store.Names(ctx, ids) // want: cache
	if err != nil {
		return err
	}
	buf := new(bytes.Buffer) // want: pooling
	_ = json.NewEncoder(buf).Encode(names)
	go h.audit(id) // want: goroutines
	return c.Blob(http.StatusOK, "application/json", buf.Bytes())
}

func (h *Handlers) audit(id int64) { _ = id }
