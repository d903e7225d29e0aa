"""One module per page type; each `build(site, data)` renders its pages through `Site.write`."""
