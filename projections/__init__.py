"""The read side: views and listings derived from the signed records.

Nothing here writes records; everything here can be rebuilt from them.
"""
