"""HTTP controllers: one per area, thin; domain logic lives in `web.services`."""
