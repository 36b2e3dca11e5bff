"""The retention policy (UK GDPR storage limitation): ``rules`` decides what is past its time
over plain facts; ``run`` applies it to the database and the evidence store, or says what it
would do."""
