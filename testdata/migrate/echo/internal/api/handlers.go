package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// ErrorBody is the JSON body of an error response.
type ErrorBody struct {
	Message string `json:"message"`
}

// Handlers serves the item routes.
type Handlers struct {
	store *Store
}

// NewRouter returns the service's HTTP handler.
func NewRouter(s *Store) http.Handler {
	h := &Handlers{store: s}
	e := echo.New()
	e.HideBanner = true
	e.Use(middleware.Recover())
	e.Use(echo.WrapMiddleware(RequestID))

	e.GET("/healthz", h.Health)
	items := e.Group("/items")
	items.GET("", h.ListItems)
	items.POST("", h.CreateItem, echo.WrapMiddleware(RequireKey))
	items.GET("/:id", h.GetItem)

	write := items.Group("/:id", echo.WrapMiddleware(RequireKey))
	write.PUT("", h.UpdateItem)
	write.DELETE("", h.DeleteItem)
	return e
}

// Health answers the liveness probe.
func (h *Handlers) Health(c echo.Context) error {
	return c.NoContent(http.StatusNoContent)
}

// ListItems lists every item.
func (h *Handlers) ListItems(c echo.Context) error {
	return c.JSON(http.StatusOK, h.store.list())
}

// CreateItem adds an item.
func (h *Handlers) CreateItem(c echo.Context) error {
	var in ItemInput
	if err := c.Bind(&in); err != nil || in.Name == "" {
		return c.JSON(http.StatusBadRequest, ErrorBody{Message: "body must be an item with a name"})
	}
	return c.JSON(http.StatusCreated, h.store.create(in))
}

// GetItem returns one item.
func (h *Handlers) GetItem(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return c.JSON(http.StatusBadRequest, ErrorBody{Message: "id must be a number"})
	}
	it, found := h.store.get(id)
	if !found {
		return echo.NewHTTPError(http.StatusNotFound, "no such item")
	}
	return c.JSON(http.StatusOK, it)
}

// UpdateItem replaces an item.
func (h *Handlers) UpdateItem(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return c.JSON(http.StatusBadRequest, ErrorBody{Message: "id must be a number"})
	}
	var in ItemInput
	if err := c.Bind(&in); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	it, found := h.store.update(id, in)
	if !found {
		return echo.NewHTTPError(http.StatusNotFound, "no such item")
	}
	return c.JSON(http.StatusOK, it)
}

// DeleteItem removes an item.
func (h *Handlers) DeleteItem(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return c.JSON(http.StatusBadRequest, ErrorBody{Message: "id must be a number"})
	}
	if !h.store.remove(id) {
		return echo.NewHTTPError(http.StatusNotFound, "no such item")
	}
	return c.NoContent(http.StatusNoContent)
}
