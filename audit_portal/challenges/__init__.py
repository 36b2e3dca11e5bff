"""Evidence challenges: the QA sub-group asks a sampled organisation to evidence its ratings.

No HTTP here. ``issuing`` chooses the items and the due date and issues a challenge;
``responding`` is the organisation's side (explanations, files, submission); ``files`` says who
may download a file and which evidence to flag.
"""
