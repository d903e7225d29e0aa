"""The static report site: SQL files over the marts, Plotly charts, Jinja2 page templates."""
