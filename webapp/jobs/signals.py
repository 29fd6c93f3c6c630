"""What other parts of the site may hear about jobs, without the jobs part knowing them.

``job_ended`` is sent once per job, after its end is stored: the inventory
uses it to settle what the job promised (a container record waiting for the
container its create job makes).
"""

from django.dispatch import Signal

#: sent with ``job`` (its final state, result and error set)
job_ended = Signal()
