"""Edge functions (router-select, key-vault): pure logic plus HTTP clients."""
