package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
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
	gin.SetMode(gin.ReleaseMode)
	h := &Handlers{store: s}
	r := gin.New()
	r.Use(gin.Recovery())
	r.Use(adapt(RequestID))

	r.GET("/healthz", h.Health)
	items := r.Group("/items")
	{
		items.GET("", h.ListItems)
		items.GET("/:id", h.GetItem)
	}
	write := r.Group("/items", adapt(RequireKey))
	{
		write.POST("", h.CreateItem)
		write.PUT("/:id", h.UpdateItem)
		write.DELETE("/:id", h.DeleteItem)
	}
	return r
}

// adapt runs a net/http middleware in a gin chain.
func adapt(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		called := false
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !called {
			c.Abort()
		}
	}
}

// Health answers the liveness probe.
func (h *Handlers) Health(c *gin.Context) {
	c.Status(http.StatusNoContent)
}

// ListItems lists every item.
func (h *Handlers) ListItems(c *gin.Context) {
	c.JSON(http.StatusOK, h.store.list())
}

// CreateItem adds an item.
func (h *Handlers) CreateItem(c *gin.Context) {
	var in ItemInput
	if err := c.ShouldBindJSON(&in); err != nil || in.Name == "" {
		c.JSON(http.StatusBadRequest, ErrorBody{Message: "body must be an item with a name"})
		return
	}
	c.JSON(http.StatusCreated, h.store.create(in))
}

// GetItem returns one item.
func (h *Handlers) GetItem(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		c.JSON(http.StatusBadRequest, ErrorBody{Message: "id must be a number"})
		return
	}
	it, found := h.store.get(id)
	if !found {
		c.JSON(http.StatusNotFound, gin.H{"message": "no such item"})
		return
	}
	c.JSON(http.StatusOK, it)
}

// UpdateItem replaces an item.
func (h *Handlers) UpdateItem(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		c.JSON(http.StatusBadRequest, ErrorBody{Message: "id must be a number"})
		return
	}
	var in ItemInput
	if err := c.ShouldBindJSON(&in); err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, ErrorBody{Message: err.Error()})
		return
	}
	it, found := h.store.update(id, in)
	if !found {
		c.JSON(http.StatusNotFound, gin.H{"message": "no such item"})
		return
	}
	c.JSON(http.StatusOK, it)
}

// DeleteItem removes an item.
func (h *Handlers) DeleteItem(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		c.JSON(http.StatusBadRequest, ErrorBody{Message: "id must be a number"})
		return
	}
	if !h.store.remove(id) {
		c.JSON(http.StatusNotFound, gin.H{"message": "no such item"})
		return
	}
	c.Status(http.StatusNoContent)
}
