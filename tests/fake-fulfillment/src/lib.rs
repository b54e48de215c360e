//! A fake Fulfillment API for local use and tests.
