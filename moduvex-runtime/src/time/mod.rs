//! Timers: a hierarchical timer wheel per runtime thread.
//!
//! The wheel ([`wheel`]) files each deadline in the level whose slot width
//! matches its distance, so insert and cancel are O(1) and the next deadline
//! is found from occupancy bitmaps.

// The driver and the public API that use the wheel land next.
#![allow(dead_code)]

mod wheel;
