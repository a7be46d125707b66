"""Home and life services (plan task 16): providers, their services at posted prices, availability,
bookings that never overbook a slot, payment, staff work and ratings."""
